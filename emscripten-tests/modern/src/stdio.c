#include <stdio.h>
#include <string.h>
int main(void) {
  printf("%d %5.2f %-6s| %x %o %c %e\n", -42, 3.14159, "left", 255, 8, 'Z', 12345.678);
  puts("puts line");
  putchar('!');
  putchar('\n');
  fprintf(stderr, "to stderr\n");
  char buf[64];
  snprintf(buf, sizeof buf, "%s-%03d", "id", 7);
  printf("snprintf: %s (%zu)\n", buf, strlen(buf));
  int a, b; char word[16];
  if (sscanf("12 34 token", "%d %d %15s", &a, &b, word) == 3) printf("sscanf: %d %s\n", a + b, word);
  printf("no newline at the end");
  fflush(stdout);
  printf("\n%lld %llu\n", -9007199254740993LL, 18446744073709551615ULL);
  return 0;
}
