#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>
static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }
int main(void) {
  char cwd[256];
  printf("cwd=%s\n", getcwd(cwd, sizeof cwd));
  printf("mkdir: %d\n", mkdir("/tmp/work", 0777));
  printf("mkdir again: %d (%s)\n", mkdir("/tmp/work", 0777), strerror(errno));
  chdir("/tmp/work");
  printf("cwd=%s\n", getcwd(cwd, sizeof cwd));
  const char *names[] = {"beta.txt", "alpha.txt", "gamma.txt"};
  for (int i = 0; i < 3; i++) { FILE *f = fopen(names[i], "w"); fputs(names[i], f); fclose(f); }
  mkdir("sub", 0777);
  DIR *d = opendir(".");
  char *found[16]; int n = 0;
  struct dirent *e;
  while ((e = readdir(d))) if (e->d_name[0] != '.') found[n++] = strdup(e->d_name);
  closedir(d);
  qsort(found, n, sizeof found[0], cmp);
  for (int i = 0; i < n; i++) {
    struct stat st; stat(found[i], &st);
    printf("%s %s\n", found[i], S_ISDIR(st.st_mode) ? "dir" : "file");
  }
  printf("rmdir non-empty parent: %d\n", rmdir("/tmp/work") == 0);
  for (int i = 0; i < 3; i++) unlink(names[i]);
  rmdir("sub");
  chdir("..");
  printf("rmdir: %d\n", rmdir("/tmp/work"));
  printf("cwd=%s\n", getcwd(cwd, sizeof cwd));
  return 0;
}
