#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static int by_len(const void *a, const void *b) {
  const char *x = *(const char *const *)a, *y = *(const char *const *)b;
  size_t lx = strlen(x), ly = strlen(y);
  return lx != ly ? (int)lx - (int)ly : strcmp(x, y);
}
int main(void) {
  const char *words[] = {"wasm", "a", "runtime", "emscripten", "cranelift", "io", "zeta", "b"};
  int n = sizeof words / sizeof words[0];
  qsort(words, n, sizeof words[0], by_len);
  for (int i = 0; i < n; i++) printf("%s%c", words[i], i + 1 < n ? ' ' : '\n');
  unsigned seed = 12345, hist[4] = {0};
  for (int i = 0; i < 10000; i++) { seed = seed * 1103515245u + 12345u; hist[(seed >> 16) & 3]++; }
  printf("hist %u %u %u %u\n", hist[0], hist[1], hist[2], hist[3]);
  return 0;
}
