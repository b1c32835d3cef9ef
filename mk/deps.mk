# mk/deps.mk -- the set-up step that runs before everything else.
#
#   make deps        check that the Debian packages the proofs and tests need are
#                    installed (mk/deps.sh); as root, install the missing ones,
#                    otherwise stop printing the apt-get command. Every goal but
#                    those below runs it first, so `make verify` and `make test`
#                    work on a fresh machine with nothing typed before them.
#
# Building and installing the library needs only a C compiler: those goals skip
# the check. The check is a stamp that depends on dpkg's database, so a machine
# that is up to date pays one stat.

DEPS_STAMP      := $(BUILD)/deps.ok
DEPS_FREE_GOALS := all lib trace-lib debug-lib install uninstall clean help bench-publish

.PHONY: deps
deps: $(DEPS_STAMP)
	$(call say,DEPS,$(shell sh mk/deps.sh --list): installed)

$(DEPS_STAMP): mk/deps.sh $(wildcard /var/lib/dpkg/status)
	$(Q)sh mk/deps.sh
	$(Q)mkdir -p $(@D) && echo '# written by mk/deps.mk: the packages of mk/deps.sh are installed' >$@

# Included, so make brings it up to date before it reads the rest of the goals.
ifneq ($(filter-out $(DEPS_FREE_GOALS),$(or $(MAKECMDGOALS),all)),)
include $(DEPS_STAMP)
endif
