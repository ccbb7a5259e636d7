#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(void) {
  enum { CHUNK = 1 << 20, COUNT = 48 };
  unsigned char *blocks[COUNT];
  unsigned long sum = 0;
  for (int i = 0; i < COUNT; i++) {
    blocks[i] = malloc(CHUNK);
    if (!blocks[i]) { printf("malloc failed at %d\n", i); return 1; }
    memset(blocks[i], i & 0xff, CHUNK);
  }
  for (int i = 0; i < COUNT; i++) sum += blocks[i][CHUNK / 2] + blocks[i][CHUNK - 1];
  printf("allocated %d MiB, checksum %lu\n", COUNT, sum);
  for (int i = 0; i < COUNT; i++) free(blocks[i]);
  char *big = malloc(64 << 20);
  printf("64 MiB block: %s\n", big ? "ok" : "failed");
  big[(64 << 20) - 1] = 1;
  free(big);
  return 0;
}
