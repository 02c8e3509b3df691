# Included at the end of tests/CMakeLists.txt (uses TS_MPI_TESTS, TS_MPIEXEC_ENV from there).
#
# valgrind_<short>_np2 (label valgrind): every MPI test program (tests/mpi/test_*.c) on 2 ranks under valgrind
# memcheck with Open MPI's suppressions (tests/valgrind/run.sh): invalid accesses, uninitialised reads and
# definite leaks fail the test. Meant for a build without sanitizers and with -g (RelWithDebInfo); Release works
# too, with function names but no line numbers in the reports.
#
# big_exchange_np2 (label big): tests/mpi/big_exchange.c, exchanges of more than 2^31 bytes on 2 ranks
# (peak ~6.7 GiB of memory over both ranks, ~40 s here).
#
# asan_<script> (label e2e, sanitizer build only): the end-to-end scripts (tests/e2e/*.sh, which the plain build
# runs as e2e_*) with the ASan + UBSan binaries, through tests/valgrind/sanitized_e2e.sh: any sanitizer report
# fails the test. Smaller inputs than in the plain build keep them within the CI budget. Not job_failures and
# job_memory_limit: they measure RSS against limits, expect allocations to fail and kill ranks on timers, and ASan's
# shadow memory, allocator (it aborts instead of returning NULL) and slowdown change exactly those.
if(TS_SANITIZE)
  file(GLOB TS_ASAN_E2E CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/e2e/job_*.sh)
  list(FILTER TS_ASAN_E2E EXCLUDE REGEX "/job_(failures|memory_limit)\\.sh$")
  list(APPEND TS_ASAN_E2E ${CMAKE_CURRENT_SOURCE_DIR}/e2e/run_e2e.sh ${CMAKE_CURRENT_SOURCE_DIR}/e2e/bad_input.sh
       ${CMAKE_CURRENT_SOURCE_DIR}/e2e/cli_usage.sh ${CMAKE_CURRENT_SOURCE_DIR}/e2e/io_hostile.sh)
  foreach(script ${TS_ASAN_E2E})
    get_filename_component(name ${script} NAME_WE)
    add_test(NAME asan_${name}
             COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/valgrind/sanitized_e2e.sh ${script} ${CMAKE_BINARY_DIR})
    set_tests_properties(asan_${name} PROPERTIES TIMEOUT 1200 LABELS e2e
                         ENVIRONMENT "${TS_MPIEXEC_ENV};E2E_ROWS=50000;DQ_ROWS=20000;STAR_ROWS=20000")
  endforeach()
  return() # valgrind cannot run ASan binaries; the big exchange is left to the plain build (ASan doubles its time)
endif()

add_executable(big_exchange ${CMAKE_CURRENT_SOURCE_DIR}/mpi/big_exchange.c)
target_link_libraries(big_exchange PRIVATE tessera)
add_test(NAME big_exchange_np2 COMMAND ${MPIEXEC_EXECUTABLE} -n 2 $<TARGET_FILE:big_exchange>)
set_tests_properties(big_exchange_np2 PROPERTIES TIMEOUT 300 LABELS big ENVIRONMENT "${TS_MPIEXEC_ENV}"
                     RUN_SERIAL TRUE) # its memory peak should not meet another test's

find_program(TS_VALGRIND valgrind)
if(NOT TS_VALGRIND)
  message(WARNING "valgrind not found: the valgrind tests are not registered (apt-get install valgrind)")
  return()
endif()
# Arguments that keep a test's valgrind run short (the plain mpi_* tests keep the full sizes).
set(TS_VG_ARGS_dict_encode 100000)                                   # rows of the speed case (default 2*10^6)
set(TS_VG_ARGS_h5_writer ${CMAKE_CURRENT_BINARY_DIR}/valgrind_h5_writer.h5) # its output file
foreach(src ${TS_MPI_TESTS})
  get_filename_component(name ${src} NAME_WE)
  string(REGEX REPLACE "^test_" "" short ${name})
  add_test(NAME valgrind_${short}_np2
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/valgrind/run.sh 2 $<TARGET_FILE:${name}> ${TS_VG_ARGS_${short}})
  set_tests_properties(valgrind_${short}_np2 PROPERTIES TIMEOUT 600 LABELS valgrind
                       ENVIRONMENT "${TS_MPIEXEC_ENV}")
endforeach()
