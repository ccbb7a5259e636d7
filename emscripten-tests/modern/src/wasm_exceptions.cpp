// Built with -fwasm-exceptions: C++ throw/catch compiled to the legacy wasm exception
// instructions (try/catch/catch_all/delegate/rethrow), unwinding through real frames.
#include <cstdio>
#include <stdexcept>
#include <string>

#define NOINLINE __attribute__((noinline))

struct Base {
  virtual ~Base() {}
  virtual const char *what() const { return "base"; }
};
struct Derived : Base {
  const char *what() const override { return "derived"; }
};
struct Code {
  int code;
};

static volatile int sink;

// Throws from the bottom of a chain of `depth` frames.
NOINLINE static void thrower(int kind) {
  switch (kind) {
    case 0: throw 42;
    case 1: throw std::runtime_error("runtime failure");
    case 2: throw Derived();
    case 3: throw std::string("a string");
    case 4: throw Code{7};
    case 5: throw 2.5;
    case 6: throw "a C string";
    default: break;
  }
}
NOINLINE static void deep(int depth, int kind) {
  sink = depth;
  if (depth == 0) thrower(kind);
  else deep(depth - 1, kind);
  sink = -depth;  // not a tail call: every level keeps its frame
}

// Through an indirect call and a virtual call.
struct Runner {
  virtual ~Runner() {}
  virtual void run(int kind) = 0;
};
struct DeepRunner : Runner {
  NOINLINE void run(int kind) override { deep(3, kind); }
};
static void (*volatile indirect)(int, int) = deep;

NOINLINE static const char *classify(int kind, int how) {
  static char buf[96];
  try {
    if (how == 0) deep(5, kind);
    else if (how == 1) indirect(8, kind);
    else {
      DeepRunner r;
      Runner *p = &r;
      p->run(kind);
    }
    return "no exception";
  } catch (int v) {
    std::snprintf(buf, sizeof buf, "int %d", v);
  } catch (const std::exception &e) {
    std::snprintf(buf, sizeof buf, "std::exception: %s", e.what());
  } catch (const Base &b) {
    std::snprintf(buf, sizeof buf, "Base&: %s", b.what());
  } catch (const std::string &s) {
    std::snprintf(buf, sizeof buf, "std::string: %s", s.c_str());
  } catch (Code c) {
    std::snprintf(buf, sizeof buf, "Code{%d}", c.code);
  } catch (const char *s) {
    std::snprintf(buf, sizeof buf, "const char*: %s", s);
  } catch (...) {
    std::snprintf(buf, sizeof buf, "something else");
  }
  return buf;
}

// A handler in a middle frame that only takes some types; the rest pass through it.
NOINLINE static int middle(int kind) {
  try {
    deep(2, kind);
  } catch (int v) {
    return v + 1;
  }
  return 0;
}

int main() {
  static const char *hows[] = {"direct", "indirect", "virtual"};
  for (int how = 0; how < 3; how++)
    for (int kind = 0; kind < 8; kind++)
      std::printf("%s kind %d: %s\n", hows[how], kind, classify(kind, how));
  for (int kind = 0; kind < 3; kind++) {
    try {
      std::printf("middle(%d) = %d\n", kind, middle(kind));
    } catch (const std::exception &e) {
      std::printf("middle(%d) passed on std::exception: %s\n", kind, e.what());
    } catch (const Base &b) {
      std::printf("middle(%d) passed on Base&: %s\n", kind, b.what());
    }
  }
  // Many throws in a loop: each exception object is freed after its handler.
  long total = 0;
  for (int i = 0; i < 10000; i++) {
    try {
      deep(i % 7, 0);
    } catch (int v) {
      total += v;
    }
  }
  std::printf("10000 throws caught, total %ld\n", total);
  return 0;
}
