// Built with -fwasm-exceptions: `throw;` from handlers and from functions they call, nested
// try blocks at one and at several frames, handlers that throw anew, catch (...), and
// std::exception_ptr / std::nested_exception; every exception object is destroyed once.
#include <cstdio>
#include <exception>
#include <stdexcept>
#include <string>

#define NOINLINE __attribute__((noinline))

static int live = 0, made = 0;

struct Err {
  int id;
  std::string where;
  Err(int i, const char *w) : id(i), where(w) { live++, made++; }
  Err(const Err &o) : id(o.id), where(o.where + "'") { live++, made++; }
  ~Err() { live--; }
};

NOINLINE static void fail(int id) { throw Err(id, "fail"); }

// `throw;` in a function called from a handler rethrows the exception being handled.
NOINLINE static void rethrow_current() { throw; }

NOINLINE static void rethrow_from_handler() {
  try {
    fail(1);
  } catch (Err &e) {
    std::printf("inner handler: id %d from %s, adding to it\n", e.id, e.where.c_str());
    e.id += 10;
    throw;
  }
}

NOINLINE static void rethrow_via_call() {
  try {
    fail(2);
  } catch (...) {
    std::printf("catch (...) hands over to a helper\n");
    rethrow_current();
  }
}

NOINLINE static void replace_in_handler() {
  try {
    fail(3);
  } catch (const Err &e) {
    std::printf("handler replaces id %d with a runtime_error\n", e.id);
    throw std::runtime_error("replacement for " + std::to_string(e.id));
  }
}

// Nested try blocks in one function: the inner one only takes ints.
NOINLINE static int nested(int what) {
  try {
    try {
      try {
        if (what == 0) throw 5;
        if (what == 1) throw Err(4, "nested");
        if (what == 2) throw std::logic_error("logic");
        return 0;
      } catch (int v) {
        std::printf("  innermost: int %d\n", v);
        return v;
      }
    } catch (const Err &e) {
      std::printf("  middle: Err %d, rethrown\n", e.id);
      throw;
    }
  } catch (const Err &e) {
    std::printf("  outer: Err %d again\n", e.id);
    return 100 + e.id;
  } catch (const std::exception &e) {
    std::printf("  outer: %s\n", e.what());
    return -1;
  }
}

// A try inside a handler: a second exception is thrown and caught while the first is held.
NOINLINE static void handler_with_try() {
  try {
    fail(6);
  } catch (const Err &first) {
    try {
      fail(7);
    } catch (const Err &second) {
      std::printf("holding %d, caught %d in its handler\n", first.id, second.id);
    }
    std::printf("still holding %d\n", first.id);
  }
}

// Catch by value copies the object; the copy and the original are both destroyed.
NOINLINE static void by_value() {
  try {
    fail(8);
  } catch (Err e) {
    std::printf("by value: id %d from %s\n", e.id, e.where.c_str());
  }
}

NOINLINE static std::exception_ptr capture() {
  try {
    fail(9);
  } catch (...) {
    return std::current_exception();
  }
  return nullptr;
}

NOINLINE static void nest() {
  try {
    throw std::runtime_error("root cause");
  } catch (...) {
    std::throw_with_nested(std::logic_error("while loading"));
  }
}

static void print_nested(const std::exception &e, int level) {
  std::printf("%*s%s\n", level * 2, "", e.what());
  try {
    std::rethrow_if_nested(e);
  } catch (const std::exception &inner) {
    print_nested(inner, level + 1);
  }
}

int main() {
  try {
    rethrow_from_handler();
  } catch (const Err &e) {
    std::printf("outer handler: id %d from %s\n", e.id, e.where.c_str());
  }
  try {
    rethrow_via_call();
  } catch (const Err &e) {
    std::printf("rethrown by the helper: id %d\n", e.id);
  }
  try {
    replace_in_handler();
  } catch (const std::exception &e) {
    std::printf("caught %s\n", e.what());
  }
  for (int what = 0; what < 4; what++) std::printf("nested(%d) = %d\n", what, nested(what));
  handler_with_try();
  by_value();
  std::exception_ptr p = capture();
  std::printf("captured, live %d\n", live);
  for (int i = 0; i < 2; i++) {
    try {
      std::rethrow_exception(p);
    } catch (const Err &e) {
      std::printf("rethrow_exception %d: id %d\n", i, e.id);
    }
  }
  p = nullptr;
  try {
    nest();
  } catch (const std::exception &e) {
    print_nested(e, 0);
  }
  std::printf("exception objects made %d, live %d\n", made, live);
  return 0;
}
