// Built with -fwasm-exceptions -sSUPPORT_LONGJMP=wasm: C++ exceptions and longjmp are two
// wasm exception tags in one program. A longjmp passes through C++ handlers that do not take
// it, a C++ exception passes through frames that called setjmp, and each lands where it must.
#include <csetjmp>
#include <cstdio>
#include <stdexcept>

#define NOINLINE __attribute__((noinline))

static std::jmp_buf env;
static volatile int steps;

NOINLINE static void jump(int v) { std::longjmp(env, v); }

// A frame with C++ handlers between the setjmp and the longjmp.
NOINLINE static void handlers_in_between(int v) {
  try {
    steps++;
    jump(v);
  } catch (const std::exception &e) {
    std::printf("  std::exception handler took it (wrong): %s\n", e.what());
  } catch (int) {
    std::printf("  int handler took it (wrong)\n");
  } catch (...) {
    std::printf("  catch (...) took it (wrong)\n");
  }
  std::printf("  after the handlers (never)\n");
}

// A frame that called setjmp, between a throw and its handler.
NOINLINE static int setjmp_in_between(int fail) {
  std::jmp_buf local;
  volatile int r = setjmp(local);
  if (r == 0) {
    if (fail == 1) throw std::runtime_error("through a setjmp frame");
    if (fail == 2) std::longjmp(local, 9);
    return 0;
  }
  return r;
}

NOINLINE static void thrower(int v) {
  if (setjmp(env) == 0) throw v;
}

int main() {
  for (int v = 1; v <= 3; v++) {
    int r = setjmp(env);
    if (r == 0) {
      handlers_in_between(v * 11);
    } else {
      std::printf("longjmp %d landed at its setjmp after %d steps\n", r, steps);
    }
  }
  for (int fail = 0; fail < 3; fail++) {
    try {
      std::printf("setjmp_in_between(%d) = %d\n", fail, setjmp_in_between(fail));
    } catch (const std::exception &e) {
      std::printf("setjmp_in_between(%d) threw: %s\n", fail, e.what());
    }
  }
  try {
    thrower(5);
  } catch (int v) {
    std::printf("caught %d thrown after a setjmp\n", v);
  }
  return 0;
}
