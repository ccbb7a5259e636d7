#include <cstdio>
#include <stdexcept>
#include <string>
struct Guard {
  const char *name;
  explicit Guard(const char *n) : name(n) { std::printf("enter %s\n", name); }
  ~Guard() { std::printf("leave %s\n", name); }
};
struct Base { virtual ~Base() {} virtual const char *what() const { return "base"; } };
struct Derived : Base { const char *what() const override { return "derived"; } };
static void thrower(int kind) {
  Guard g("thrower");
  switch (kind) {
    case 0: throw 42;
    case 1: throw std::runtime_error("runtime failure");
    case 2: throw Derived();
    case 3: throw std::string("a string");
    default: break;
  }
}
int main() {
  for (int kind = 0; kind < 5; kind++) {
    try {
      thrower(kind);
      std::printf("kind %d: no exception\n", kind);
    } catch (int v) {
      std::printf("kind %d: caught int %d\n", kind, v);
    } catch (const std::exception &e) {
      std::printf("kind %d: caught std::exception: %s\n", kind, e.what());
    } catch (const Base &b) {
      std::printf("kind %d: caught Base&: %s\n", kind, b.what());
    } catch (...) {
      std::printf("kind %d: caught something else\n", kind);
    }
  }
  try {
    try {
      throw std::logic_error("inner");
    } catch (const std::exception &e) {
      std::printf("rethrowing %s\n", e.what());
      throw;
    }
  } catch (const std::logic_error &e) {
    std::printf("outer caught %s\n", e.what());
  }
  return 0;
}
