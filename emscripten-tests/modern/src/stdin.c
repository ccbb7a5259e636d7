#include <stdio.h>
int main(void) {
  int c, n = 0;
  while ((c = getchar()) != EOF) n++;
  printf("read %d bytes from stdin, eof=%d\n", n, feof(stdin) != 0);
  return 0;
}
