#include <stdio.h>
#include <setjmp.h>
static jmp_buf env;
static volatile int depth;
static void dive(int n) {
  depth = n;
  if (n == 5) longjmp(env, n * 10);
  dive(n + 1);
  printf("never printed\n");
}
static int retry(void) {
  jmp_buf again;
  volatile int tries = 0;
  int v = setjmp(again);
  tries++;
  if (v < 3) longjmp(again, v + 1);
  return tries * 100 + v;
}
int main(void) {
  volatile int r = setjmp(env);
  if (r == 0) {
    printf("first pass\n");
    dive(0);
  } else {
    printf("longjmp returned %d at depth %d\n", r, depth);
  }
  printf("retry: %d\n", retry());
  return 0;
}
