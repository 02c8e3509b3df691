# ---- Slurm batch scripts (tests/slurm, included at the end of tests/CMakeLists.txt): slurm/*.sbatch submitted
# with `sbatch --wait` to a private single-node Slurm cluster that the test starts and stops itself. Needs root and
# the Debian packages slurm-wlm and munge; without them it is skipped (exit 77), except under CI=true where that is
# a failure. Release build only, like the end-to-end tests. The script keeps itself below TIMEOUT (its own budget,
# SLURM_TEST_BUDGET=540 s) so that its exit trap always stops the daemons.
if(NOT TS_SANITIZE)
  add_test(NAME slurm_batch COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/test_slurm.sh ${CMAKE_BINARY_DIR})
  set_tests_properties(slurm_batch PROPERTIES TIMEOUT 600 LABELS slurm SKIP_RETURN_CODE 77
                       ENVIRONMENT "${TS_MPIEXEC_ENV}")
endif()
