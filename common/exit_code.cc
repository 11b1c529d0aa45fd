#include "common/exit_code.h"

namespace streamrec {
namespace {
int g_exit_code = 0;
}  // namespace

int ExitCode() { return g_exit_code; }
void SetExitCode(int code) { g_exit_code = code; }

}  // namespace streamrec
