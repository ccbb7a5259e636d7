// Built with -fwasm-exceptions: exceptions the C++ standard library throws, caught by their
// own type, by a base class and by `catch (...)`.
#include <cstdio>
#include <functional>
#include <map>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <typeinfo>
#include <variant>
#include <vector>

#define NOINLINE __attribute__((noinline))

struct Shape {
  virtual ~Shape() {}
};
struct Circle : Shape {};
struct Square : Shape {};

static volatile size_t huge = (size_t)-1 / 2;

NOINLINE static void vector_at() {
  std::vector<int> v{1, 2, 3};
  v.at(3) = 0;
}
NOINLINE static void string_at() {
  std::string s = "abc";
  std::printf("  %c\n", s.at(10));
}
NOINLINE static void map_at() {
  std::map<std::string, int> m{{"one", 1}};
  std::printf("  %d\n", m.at("two"));
}
NOINLINE static void stoi_garbage() { std::printf("  %d\n", std::stoi("not a number")); }
NOINLINE static void stoi_overflow() { std::printf("  %d\n", std::stoi("99999999999999999999")); }
NOINLINE static void substr_past_end() { std::printf("  %s\n", std::string("abc").substr(5).c_str()); }
NOINLINE static void runtime() { throw std::runtime_error("a runtime_error"); }
NOINLINE static void overflow() { throw std::overflow_error("an overflow_error"); }
NOINLINE static void bad_new() {
  char *p = new char[huge];
  std::printf("  allocated %p\n", (void *)p);
}
NOINLINE static void vector_too_long() {
  std::vector<int> v;
  v.reserve(huge);
}
NOINLINE static void bad_cast() {
  Circle c;
  Shape &s = c;
  Square &q = dynamic_cast<Square &>(s);
  std::printf("  %p\n", (void *)&q);
}
NOINLINE static void bad_typeid() {
  Shape *s = nullptr;
  std::printf("  %s\n", typeid(*s).name());
}
NOINLINE static void bad_function() {
  std::function<int()> f;
  std::printf("  %d\n", f());
}
NOINLINE static void bad_optional() {
  std::optional<int> o;
  std::printf("  %d\n", o.value());
}
NOINLINE static void bad_variant() {
  std::variant<int, std::string> v = 5;
  std::printf("  %s\n", std::get<std::string>(v).c_str());
}
NOINLINE static void system_error() {
  throw std::system_error(std::make_error_code(std::errc::invalid_argument), "system_error");
}

struct Case {
  const char *name;
  void (*run)();
};

// Caught by the most specific type, then reported by what().
NOINLINE static void specific(const Case &c) {
  try {
    c.run();
    std::printf("%s: no exception\n", c.name);
  } catch (const std::out_of_range &e) {
    std::printf("%s: out_of_range\n", c.name);
  } catch (const std::invalid_argument &e) {
    std::printf("%s: invalid_argument: %s\n", c.name, e.what());
  } catch (const std::length_error &e) {
    std::printf("%s: length_error\n", c.name);
  } catch (const std::system_error &e) {
    std::printf("%s: system_error, code %d\n", c.name, e.code().value());
  } catch (const std::overflow_error &e) {
    std::printf("%s: overflow_error: %s\n", c.name, e.what());
  } catch (const std::runtime_error &e) {
    std::printf("%s: runtime_error: %s\n", c.name, e.what());
  } catch (const std::bad_alloc &e) {
    std::printf("%s: bad_alloc: %s\n", c.name, e.what());
  } catch (const std::bad_cast &e) {
    std::printf("%s: bad_cast: %s\n", c.name, e.what());
  } catch (const std::bad_typeid &e) {
    std::printf("%s: bad_typeid: %s\n", c.name, e.what());
  } catch (const std::bad_function_call &e) {
    std::printf("%s: bad_function_call: %s\n", c.name, e.what());
  } catch (const std::exception &e) {
    std::printf("%s: other std::exception: %s\n", c.name, e.what());
  }
}

// The same cases caught by the base classes.
NOINLINE static void by_base(const Case &c) {
  try {
    c.run();
  } catch (const std::logic_error &) {
    std::printf("%s: a logic_error\n", c.name);
  } catch (const std::runtime_error &) {
    std::printf("%s: a runtime_error\n", c.name);
  } catch (...) {
    std::printf("%s: something else\n", c.name);
  }
}

int main() {
  static const Case cases[] = {
      {"vector::at", vector_at},
      {"string::at", string_at},
      {"map::at", map_at},
      {"stoi garbage", stoi_garbage},
      {"stoi overflow", stoi_overflow},
      {"substr past end", substr_past_end},
      {"runtime_error", runtime},
      {"overflow_error", overflow},
      {"new char[huge]", bad_new},
      {"vector::reserve(huge)", vector_too_long},
      {"dynamic_cast<Square&>", bad_cast},
      {"typeid(*nullptr)", bad_typeid},
      {"empty std::function", bad_function},
      {"optional::value", bad_optional},
      {"get<std::string>", bad_variant},
      {"system_error", system_error},
  };
  for (const Case &c : cases) specific(c);
  for (const Case &c : cases) by_base(c);
  return 0;
}
