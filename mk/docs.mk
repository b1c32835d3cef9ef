# mk/docs.mk -- the documents are true: their examples run, their lists are whole.
#
#   make test-docs   every example of README.md, built and run as written
#                    (tests/docs/readme.sh), and every .PHONY target listed by
#                    `make help` (tests/docs/help.sh), every function of the
#                    header in the man page, at its version (tests/docs/man.sh),
#                    and docs/state-machine.md's conjuncts, quotes and
#                    transitions as spec/page.smt2 and src/ have them
#                    (tests/docs/state_machine.py); run by `make test`

DOCS_TEST_DIR := $(BUILD)/tests/docs
TEST_TARGETS  += test-docs
.PHONY: test-docs

test-docs: lib
	$(call run-logged,docs/readme,sh tests/docs/readme.sh "$(MAKE)" $(abspath $(DOCS_TEST_DIR)/readme),$(DOCS_TEST_DIR)/readme.log)
	$(call run-logged,docs/help,sh tests/docs/help.sh "$(MAKE)",$(DOCS_TEST_DIR)/help.log)
	$(call run-logged,docs/man,sh tests/docs/man.sh,$(DOCS_TEST_DIR)/man.log)
	$(call run-logged,docs/state-machine,python3 tests/docs/state_machine.py,$(DOCS_TEST_DIR)/state-machine.log)
