#include <stdio.h>
#include <stdlib.h>
int main(void) {
  const char *names[] = {"HOME", "USER", "PATH", "LANG", "NOT_SET"};
  for (int i = 0; i < 5; i++) {
    const char *v = getenv(names[i]);
    printf("%s=%s\n", names[i], v ? v : "(null)");
  }
  setenv("GREETING", "hi", 1);
  printf("GREETING=%s\n", getenv("GREETING"));
  setenv("GREETING", "ignored", 0);
  printf("GREETING=%s\n", getenv("GREETING"));
  unsetenv("GREETING");
  printf("GREETING=%s\n", getenv("GREETING") ? getenv("GREETING") : "(null)");
  return 0;
}
