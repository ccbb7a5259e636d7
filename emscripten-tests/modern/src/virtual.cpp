#include <cstdio>
#include <memory>
#include <vector>
struct Shape { virtual ~Shape() = default; virtual double area() const = 0; virtual const char *name() const = 0; };
struct Square : Shape { double s; explicit Square(double s) : s(s) {} double area() const override { return s * s; } const char *name() const override { return "square"; } };
struct Circle : Shape { double r; explicit Circle(double r) : r(r) {} double area() const override { return 3.14159265358979 * r * r; } const char *name() const override { return "circle"; } };
static int alive;
struct Tracked { Tracked() { alive++; } ~Tracked() { alive--; } };
int main() {
  std::vector<std::unique_ptr<Shape>> shapes;
  shapes.push_back(std::make_unique<Square>(2));
  shapes.push_back(std::make_unique<Circle>(1));
  for (auto &s : shapes) std::printf("%s %.4f\n", s->name(), s->area());
  { Tracked a, b; std::printf("alive inside: %d\n", alive); }
  std::printf("alive after: %d\n", alive);
  auto shared = std::make_shared<Tracked>();
  auto copy = shared;
  std::printf("use_count %ld alive %d\n", shared.use_count(), alive);
  return 0;
}
