#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>
static int constructed, destroyed;
struct Res { int id; explicit Res(int i) : id(i) { constructed++; } ~Res() { destroyed++; } };
static int parse(const char *s) {
  Res r(1);
  int v = 0;
  for (; *s; s++) {
    if (*s < '0' || *s > '9') throw std::invalid_argument(std::string("bad digit in ") + s);
    v = v * 10 + (*s - '0');
  }
  return v;
}
int main() {
  const char *inputs[] = {"123", "4x5", "", "99"};
  int total = 0;
  for (const char *in : inputs) {
    try {
      total += parse(in);
    } catch (const std::invalid_argument &e) {
      std::printf("error: %s\n", e.what());
    }
  }
  std::printf("total %d constructed %d destroyed %d\n", total, constructed, destroyed);
  try {
    std::vector<int> v(3);
    v.at(10) = 1;
  } catch (const std::out_of_range &) {
    std::printf("out_of_range caught\n");
  }
  try {
    throw 3.5;
  } catch (double d) {
    std::printf("caught double %.1f\n", d);
  }
  return 0;
}
