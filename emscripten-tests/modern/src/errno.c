#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
int main(void) {
  FILE *f = fopen("/does/not/exist", "r");
  printf("fopen: %p errno=%s\n", (void *)f, strerror(errno));
  int fd = open("/tmp", O_WRONLY);
  printf("open dir for writing: %d errno=%s\n", fd, strerror(errno));
  errno = 0;
  printf("close(99): %d errno=%s\n", close(99), strerror(errno));
  char c;
  printf("read(99): %zd errno=%s\n", read(99, &c, 1), strerror(errno));
  return 0;
}
