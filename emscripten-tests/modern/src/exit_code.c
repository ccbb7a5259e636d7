#include <stdio.h>
#include <stdlib.h>
static void bye(void) { printf("atexit handler\n"); }
int main(void) {
  atexit(bye);
  printf("exiting with 3\n");
  exit(3);
}
