// Built with -fwasm-exceptions: destructors run while an exception unwinds the frames between
// the throw and its handler, in reverse order of construction, and only for what was built.
#include <cstdio>
#include <exception>
#include <memory>
#include <stdexcept>
#include <vector>

#define NOINLINE __attribute__((noinline))

static int live = 0;

struct Guard {
  const char *name;
  explicit Guard(const char *n) : name(n) {
    live++;
    std::printf("  enter %s\n", name);
  }
  ~Guard() {
    live--;
    std::printf("  leave %s (unwinding: %d)\n", name, std::uncaught_exceptions());
  }
};

NOINLINE static void level3(bool fail) {
  Guard g("level3");
  if (fail) throw std::runtime_error("from level3");
  std::printf("  level3 done\n");
}
NOINLINE static void level2(bool fail) {
  Guard a("level2 a");
  {
    Guard inner("level2 inner block");
  }
  Guard b("level2 b");
  level3(fail);
}
NOINLINE static void level1(bool fail) {
  Guard g("level1");
  std::unique_ptr<Guard> owned(new Guard("level1 heap (unique_ptr)"));
  level2(fail);
}

// A member whose constructor throws: the members already built are destroyed, the object's
// own destructor does not run.
struct Part {
  int n;
  explicit Part(int k) : n(k) {
    if (k == 3) throw k;
    live++;
    std::printf("  part %d built\n", n);
  }
  ~Part() {
    live--;
    std::printf("  part %d destroyed\n", n);
  }
};
struct Whole {
  Part p1, p2, p3, p4;
  Whole() : p1(1), p2(2), p3(3), p4(4) { std::printf("  whole built (never)\n"); }
  ~Whole() { std::printf("  whole destroyed (never)\n"); }
};

// An array whose fourth element's constructor throws.
struct Elem {
  static int count;
  int id;
  Elem() : id(count++) {
    if (id == 3) throw std::logic_error("element 3");
    live++;
  }
  ~Elem() {
    live--;
    std::printf("  element %d destroyed\n", id);
  }
};
int Elem::count = 0;

// A destructor that throws and catches inside itself while another exception unwinds.
struct Careful {
  ~Careful() {
    try {
      throw 99;
    } catch (int v) {
      std::printf("  destructor caught its own %d while unwinding: %d\n", v,
                  std::uncaught_exceptions());
    }
  }
};
NOINLINE static void careful() {
  Careful c;
  throw std::runtime_error("outer");
}

// A function-try-block on a constructor rethrows after its handler.
struct Wrapper {
  Part part;
  Wrapper() try : part(3) {
  } catch (int v) {
    std::printf("  constructor handler saw %d\n", v);
  }
};

int main() {
  std::printf("no throw:\n");
  level1(false);
  std::printf("throw through three frames:\n");
  try {
    level1(true);
  } catch (const std::exception &e) {
    std::printf("caught %s, live guards %d\n", e.what(), live);
  }
  std::printf("member constructor throws:\n");
  try {
    Whole w;
  } catch (int v) {
    std::printf("caught %d, live parts %d\n", v, live);
  }
  std::printf("array element constructor throws:\n");
  try {
    Elem *arr = new Elem[6];
    delete[] arr;
  } catch (const std::logic_error &e) {
    std::printf("caught %s, live elements %d\n", e.what(), live);
  }
  std::printf("vector of guards unwound:\n");
  try {
    std::vector<std::unique_ptr<Guard>> v;
    v.emplace_back(new Guard("v0"));
    v.emplace_back(new Guard("v1"));
    v.at(2);
  } catch (const std::out_of_range &) {
    std::printf("caught out_of_range, live guards %d\n", live);
  }
  std::printf("destructor with its own try:\n");
  try {
    careful();
  } catch (const std::exception &e) {
    std::printf("caught %s\n", e.what());
  }
  std::printf("function-try-block:\n");
  try {
    Wrapper w;
  } catch (int v) {
    std::printf("caught %d again after the constructor handler\n", v);
  }
  std::printf("live at exit: %d\n", live);
  return 0;
}
