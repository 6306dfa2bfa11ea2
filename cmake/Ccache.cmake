# ccache, shared by every checkout on the machine: paths under the source tree are rewritten to
# relative ones (CCACHE_BASEDIR) and the working directory is not hashed, so a fresh clone in
# another directory (CI) still hits the cache.
find_program(CCACHE_PROGRAM ccache)
if(CCACHE_PROGRAM)
  set(_sigil_ccache ${CMAKE_COMMAND} -E env CCACHE_BASEDIR=${PROJECT_SOURCE_DIR} CCACHE_NOHASHDIR=1
                    ${CCACHE_PROGRAM})
  set(CMAKE_CXX_COMPILER_LAUNCHER ${_sigil_ccache})
  set(CMAKE_C_COMPILER_LAUNCHER ${_sigil_ccache})
endif()
