#include <algorithm>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>
int main() {
  std::vector<int> v{5, 3, 9, 1, 7};
  std::sort(v.begin(), v.end());
  for (int x : v) std::cout << x << ' ';
  std::cout << '\n';
  std::map<std::string, int> counts;
  std::istringstream words("the cat and the hat and the bat");
  std::string w;
  while (words >> w) counts[w]++;
  for (const auto &kv : counts) std::cout << kv.first << '=' << kv.second << '\n';
  auto p = std::make_unique<std::vector<std::string>>(3, "x");
  std::cout << "unique size " << p->size() << ", joined ";
  std::string joined;
  for (auto &s : *p) joined += s;
  std::cout << joined << std::endl;
  std::cout << 1.5 << ' ' << 1e10 << ' ' << std::hex << 255 << std::endl;
  return 0;
}
