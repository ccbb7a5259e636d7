// Built with -sSUPPORT_LONGJMP=wasm: setjmp/longjmp compiled to wasm exceptions (a
// `__c_longjmp` tag thrown by longjmp, caught where setjmp was called), across frames,
// through indirect calls and libc's qsort, with nested and re-entered jump buffers.
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>

#define NOINLINE __attribute__((noinline))

static jmp_buf top;
static volatile int depth;

NOINLINE static void dive(int n, int value) {
  depth = n;
  if (n == 0) longjmp(top, value);
  dive(n - 1, value);
  printf("never printed\n");
}

// setjmp returns the value given to longjmp. (Not longjmp(env, 0): emcc 3.1.6's wasm
// longjmp makes setjmp return 0 for it, not 1, under Node as here.)
NOINLINE static void values(void) {
  static const int given[] = {7, -3, 1, 1000000};
  for (int i = 0; i < 4; i++) {
    int r = setjmp(top);
    if (r == 0) dive(10 + i, given[i]);
    printf("longjmp(%d) from depth %d: setjmp returned %d\n", given[i], 10 + i, r);
  }
}

// A function re-entered through its own jump buffer; volatile locals keep their values.
NOINLINE static int retry(int times) {
  jmp_buf again;
  volatile int tries = 0;
  volatile int sum = 0;
  int v = setjmp(again);
  tries++;
  sum += v;
  if (v < times) longjmp(again, v + 1);
  return tries * 1000 + sum;
}

// Nested buffers: the inner longjmp lands at the inner setjmp, the outer one skips it.
static jmp_buf outer_env;
NOINLINE static void inner_work(jmp_buf *inner, int which) {
  if (which == 0) longjmp(*inner, 1);
  longjmp(outer_env, 2);
}
NOINLINE static const char *nested(int which) {
  jmp_buf inner;
  if (setjmp(outer_env)) return "outer";
  if (setjmp(inner)) return "inner";
  inner_work(&inner, which);
  return "none";
}

// Out of a qsort comparison callback: longjmp unwinds libc's frames too.
static jmp_buf sort_env;
static volatile int comparisons;
static int compare(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  if (++comparisons == 5) longjmp(sort_env, x * 100 + y);
  return (x > y) - (x < y);
}

// Through a function pointer.
static void (*volatile jumper)(int, int) = dive;

struct Context {
  jmp_buf env;
  int id;
};
NOINLINE static void fail_in(struct Context *ctx, int code) { longjmp(ctx->env, ctx->id * 10 + code + 1); }
NOINLINE static int guarded(int id, int code) {
  struct Context *ctx = malloc(sizeof *ctx);
  ctx->id = id;
  int r = setjmp(ctx->env);
  if (r == 0) {
    fail_in(ctx, code);
    return -1;
  }
  free(ctx);
  return r;
}

int main(void) {
  values();
  printf("retry(3) = %d\n", retry(3));
  printf("retry(50) = %d\n", retry(50));
  printf("nested(0): %s\n", nested(0));
  printf("nested(1): %s\n", nested(1));
  int data[] = {5, 3, 9, 1, 7, 2, 8};
  int r = setjmp(sort_env);
  if (r == 0) {
    qsort(data, 7, sizeof data[0], compare);
    printf("qsort finished\n");
  } else {
    printf("left qsort after %d comparisons with %d\n", comparisons, r);
  }
  if ((r = setjmp(top)) == 0) jumper(20, 42);
  printf("through a function pointer: %d at depth %d\n", r, depth);
  long total = 0;
  for (int i = 0; i < 10000; i++) total += guarded(i % 5, i % 3);
  printf("10000 guarded calls, total %ld\n", total);
  return 0;
}
