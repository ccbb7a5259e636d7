#include <stdio.h>
#include <math.h>
int main(void) {
  double xs[] = {0.5, 1.0, 2.0, 10.0};
  for (int i = 0; i < 4; i++) {
    double x = xs[i];
    printf("x=%.1f sin=%.6f cos=%.6f exp=%.6f log=%.6f sqrt=%.6f pow=%.6f\n", x, sin(x), cos(x), exp(x), log(x), sqrt(x), pow(x, 1.5));
  }
  printf("fmod=%.3f atan2=%.6f floor=%.1f ceil=%.1f round=%.1f\n", fmod(10.5, 3.0), atan2(1.0, 2.0), floor(-2.5), ceil(-2.5), round(2.5));
  printf("inf=%f nan=%d\n", INFINITY, isnan(NAN));
  return 0;
}
