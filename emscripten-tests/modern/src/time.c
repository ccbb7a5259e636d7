#include <stdio.h>
#include <time.h>
int main(void) {
  time_t now = time(NULL);
  printf("time is after 2020: %d\n", now > 1577836800);
  time_t t = 1000000000;
  struct tm *g = gmtime(&t);
  char buf[128];
  strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S %A %B %j", g);
  printf("gmtime: %s\n", buf);
  struct tm tm = {0};
  tm.tm_year = 120; tm.tm_mon = 1; tm.tm_mday = 29; tm.tm_hour = 12;
  time_t back = timegm(&tm);
  printf("timegm: %lld wday=%d yday=%d\n", (long long)back, tm.tm_wday, tm.tm_yday);
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  volatile double x = 0; for (int i = 0; i < 100000; i++) x += i;
  clock_gettime(CLOCK_MONOTONIC, &b);
  printf("monotonic: %d\n", (b.tv_sec > a.tv_sec) || (b.tv_sec == a.tv_sec && b.tv_nsec >= a.tv_nsec));
  printf("clock ok: %d\n", clock() >= 0);
  return 0;
}
