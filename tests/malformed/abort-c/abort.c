/* A tiny non-Go program whose only purpose is to die with a core dump (SIGABRT). The core and
 * the executable are committed (abort.core.zst, abort.zst) for the malformed-input suite: a core
 * of a program that is not a Go program at all. Regenerate with make-core.sh. */
#include <stdio.h>
#include <stdlib.h>

static int counter[16];

int main(void) {
    for (int i = 0; i < 16; ++i) counter[i] = i * i;
    fprintf(stderr, "abort-c: about to abort (counter[15] = %d)\n", counter[15]);
    abort();
}
