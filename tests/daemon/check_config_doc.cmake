# Fails when DOC (docs/CONFIG.md) differs from what `STREAMREC serve --help-config` prints, and
# says how to regenerate it.
execute_process(COMMAND ${STREAMREC} serve --help-config
                OUTPUT_VARIABLE generated RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${STREAMREC} serve --help-config exited with ${rc}")
endif()
file(READ ${DOC} committed)
if(NOT generated STREQUAL committed)
  message(FATAL_ERROR "${DOC} is stale: the config table (daemon/config_keys.cc) changed.\n"
          "Regenerate it from the checkout with:\n"
          "  build/streamrec serve --help-config > docs/CONFIG.md")
endif()
