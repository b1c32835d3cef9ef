# mk/install.mk -- installing shardalloc for other programs to build against.
#
#   make install       both libraries (libshardalloc.so.X.Y.Z with its links
#                      libshardalloc.so.X and libshardalloc.so, libshardalloc.a),
#                      include/shardalloc.h, shardalloc.pc, the CMake package
#                      (find_package(shardalloc): shardalloc::shardalloc) and the
#                      man page shardalloc(3). PREFIX (/usr/local), LIBDIR
#                      (PREFIX/lib), INCLUDEDIR, MANDIR, DESTDIR as usual
#   make uninstall     remove what `make install` put there (same variables)
#   make test-install  install into a temporary DESTDIR, build a program against
#                      it with pkg-config and with CMake, run both, uninstall;
#                      run by `make test`
#
# The .pc and CMake files are written from mk/pkg/*.in at install time, so they
# name the directories of that install (recursive variables, read when the
# recipe runs); the CMake files locate the library
# relative to themselves, so a DESTDIR tree works before it is moved.

PREFIX       ?= /usr/local
LIBDIR       ?= $(PREFIX)/lib
INCLUDEDIR   ?= $(PREFIX)/include
MANDIR       ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
CMAKEDIR     ?= $(LIBDIR)/cmake/shardalloc

SA_MAN_PAGE  := docs/shardalloc.3
# $(call sa-relative,from,to): the path from directory `from` to `to`.
sa-relative   = $(shell realpath -m --relative-to='$(1)' '$(2)')
SA_PKG_SUBST  = sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
                    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' \
                    -e 's|@VERSION@|$(SA_VERSION_FULL)|g' -e 's|@VERSION_MAJOR@|$(SA_VERSION_MAJOR)|g' \
                    -e 's|@CMAKE_TO_LIBDIR@|$(call sa-relative,$(CMAKEDIR),$(LIBDIR))|g' \
                    -e 's|@CMAKE_TO_INCLUDEDIR@|$(call sa-relative,$(CMAKEDIR),$(INCLUDEDIR))|g'
SA_INSTALLED  = $(LIBDIR)/libshardalloc.a $(LIBDIR)/$(notdir $(SA_LIB_SO_REAL)) \
                $(LIBDIR)/$(SA_SONAME) $(LIBDIR)/libshardalloc.so \
                $(INCLUDEDIR)/shardalloc.h $(PKGCONFIGDIR)/shardalloc.pc \
                $(CMAKEDIR)/shardalloc-config.cmake $(CMAKEDIR)/shardalloc-config-version.cmake \
                $(MANDIR)/man3/shardalloc.3

.PHONY: install uninstall test-install
install: lib
	$(call say,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR) \
	    $(DESTDIR)$(CMAKEDIR) $(DESTDIR)$(MANDIR)/man3
	$(Q)install -m 644 $(SA_LIB_A) $(DESTDIR)$(LIBDIR)/
	$(Q)install -m 755 $(SA_LIB_SO_REAL) $(DESTDIR)$(LIBDIR)/
	$(Q)ln -sf $(notdir $(SA_LIB_SO_REAL)) $(DESTDIR)$(LIBDIR)/$(SA_SONAME)
	$(Q)ln -sf $(SA_SONAME) $(DESTDIR)$(LIBDIR)/libshardalloc.so
	$(Q)install -m 644 include/shardalloc.h $(DESTDIR)$(INCLUDEDIR)/
	$(Q)$(SA_PKG_SUBST) mk/pkg/shardalloc.pc.in >$(DESTDIR)$(PKGCONFIGDIR)/shardalloc.pc
	$(Q)$(SA_PKG_SUBST) mk/pkg/shardalloc-config.cmake.in >$(DESTDIR)$(CMAKEDIR)/shardalloc-config.cmake
	$(Q)$(SA_PKG_SUBST) mk/pkg/shardalloc-config-version.cmake.in \
	    >$(DESTDIR)$(CMAKEDIR)/shardalloc-config-version.cmake
	$(Q)install -m 644 $(SA_MAN_PAGE) $(DESTDIR)$(MANDIR)/man3/
# (the loader's cache, for a LIBDIR it searches, /usr/local/lib, ...; one it
# does not is the administrator's to add, not ours)
	$(Q)if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && command -v ldconfig >/dev/null; then \
	    ldconfig; fi

uninstall:
	$(call say,UNINSTALL,$(DESTDIR)$(PREFIX))
	$(Q)rm -f $(addprefix $(DESTDIR),$(SA_INSTALLED))
	$(Q)rmdir $(DESTDIR)$(CMAKEDIR) 2>/dev/null || true

# A prefix with a LIBDIR of its own, as distributions use (lib64,
# lib/x86_64-linux-gnu), so the .pc and CMake files are checked to follow it.
TEST_INSTALL_DIR := $(BUILD)/tests/install
TEST_TARGETS     += test-install

test-install: lib
	$(Q)rm -rf $(TEST_INSTALL_DIR)
	$(call run-logged,install,sh tests/install/run.sh "$(MAKE)" $(abspath $(TEST_INSTALL_DIR)),$(TEST_INSTALL_DIR).log)
