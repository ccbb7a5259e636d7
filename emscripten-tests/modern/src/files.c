#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>
#include <fcntl.h>
int main(void) {
  FILE *f = fopen("/tmp/data.txt", "w");
  if (!f) { perror("fopen"); return 1; }
  for (int i = 0; i < 100; i++) fprintf(f, "line %d\n", i);
  fclose(f);
  struct stat st;
  stat("/tmp/data.txt", &st);
  printf("size=%lld regular=%d\n", (long long)st.st_size, S_ISREG(st.st_mode));
  f = fopen("/tmp/data.txt", "r");
  char line[64];
  fseek(f, 70, SEEK_SET);
  fgets(line, sizeof line, f);
  printf("at 70: %s", line);
  printf("tell=%ld\n", ftell(f));
  fseek(f, -8, SEEK_END);
  fgets(line, sizeof line, f);
  printf("tail: %s", line);
  fclose(f);
  int fd = open("/tmp/data.txt", O_WRONLY | O_APPEND);
  write(fd, "appended\n", 9);
  close(fd);
  fd = open("/tmp/data.txt", O_RDONLY);
  off_t end = lseek(fd, 0, SEEK_END);
  lseek(fd, end - 9, SEEK_SET);
  char buf[16] = {0};
  read(fd, buf, 9);
  close(fd);
  printf("end=%lld last=%s", (long long)end, buf);
  if (rename("/tmp/data.txt", "/tmp/moved.txt") == 0) printf("renamed\n");
  printf("old exists: %d\n", access("/tmp/data.txt", F_OK) == 0);
  printf("new exists: %d\n", access("/tmp/moved.txt", F_OK) == 0);
  unlink("/tmp/moved.txt");
  f = fopen("/tmp/moved.txt", "r");
  printf("after unlink: %s (%s)\n", f ? "opened" : "missing", strerror(errno));
  return 0;
}
