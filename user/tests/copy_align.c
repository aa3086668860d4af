/* User-memory copies at every alignment: the kernel copies to and from user buffers 8 bytes at a
 * time once the destination is aligned, whatever the source's alignment. Writes from buf+i into a
 * pipe and reads into out+j for all i, j in 0..7 and lengths around the 8- and 32-byte steps must
 * give back exactly the bytes written and leave the bytes around the destination alone. */
#include <string.h>
#include <unistd.h>
#include "harness.h"

static unsigned char in[4200], out[4200];

int main(void)
{
	static const int lens[] = { 1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 1000, 4096 };
	int fds[2];
	if (pipe(fds) < 0) {
		FAIL("pipe", "no pipe");
		return t_finish();
	}
	int bad = 0, cases = 0;
	for (int i = 0; i < 8; i++)
		for (int j = 0; j < 8; j++)
			for (unsigned k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
				int n = lens[k];
				for (int b = 0; b < n + 16; b++)
					in[b] = (unsigned char)(b * 37 + i * 5 + j + k);
				memset(out, 0x5a, sizeof(out));
				if (write(fds[1], in + i, n) != n || read(fds[0], out + j, n) != n) {
					bad++;
					continue;
				}
				cases++;
				if (memcmp(out + j, in + i, n) != 0)
					bad++;
				for (int b = 0; b < j; b++)
					bad += out[b] != 0x5a;
				bad += out[j + n] != 0x5a;
			}
	CHECK("copies_exact_at_every_alignment", bad == 0 && cases == 8 * 8 * 15, "bad=%d cases=%d", bad, cases);
	return t_finish();
}
