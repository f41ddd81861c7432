/*
 * vnc-check HOST PORT W H K...: a VNC client (libvncclient) for
 * display-test.sh.  For each K in turn it waits (up to 120 s) until the
 * framebuffer it holds is W x H with pixel x,y = (x*3+K)<<16 | (y*5)<<8
 * | (x^y^K) (bytes), the frames tests/guest-progs/vbe.S draws, and prints
 * "seen K"; "timeout K (N pixels differ)" and exit status 1 if not.  It
 * stays connected throughout, so later frames arrive as updates.
 */
#include <rfb/rfbclient.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void quiet(const char *fmt, ...)
{
	(void)fmt;
}

static int differ(rfbClient *cl, int w, int h, int k)
{
	int bad = 0;

	if (cl->width != w || cl->height != h)
		return w * h;
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			uint32_t v, want;

			memcpy(&v, cl->frameBuffer + ((size_t)y * w + x) * 4, 4);
			want = (uint32_t)((x * 3 + k) & 0xff) << 16 |
			       (uint32_t)((y * 5) & 0xff) << 8 |
			       (uint32_t)((x ^ y ^ k) & 0xff);
			bad += (((v >> cl->format.redShift) & 0xff) << 16 |
				((v >> cl->format.greenShift) & 0xff) << 8 |
				((v >> cl->format.blueShift) & 0xff)) != want;
		}
	return bad;
}

int main(int argc, char **argv)
{
	rfbClient *cl;
	int w, h;

	if (argc < 6) {
		fprintf(stderr, "usage: vnc-check HOST PORT W H K...\n");
		return 2;
	}
	rfbClientLog = quiet;
	rfbClientErr = quiet;
	w = atoi(argv[3]);
	h = atoi(argv[4]);
	cl = rfbGetClient(8, 3, 4);
	free(cl->serverHost);
	cl->serverHost = strdup(argv[1]);
	cl->serverPort = atoi(argv[2]);
	cl->canHandleNewFBSize = TRUE;
	cl->appData.shareDesktop = TRUE;
	/* Lossless encodings only: tight with JPEG would change pixels. */
	cl->appData.encodingsString = "zrle hextile zlib copyrect raw";
	cl->appData.enableJPEG = FALSE;
	if (!rfbInitClient(cl, NULL, NULL)) {
		printf("cannot connect to %s:%s\n", argv[1], argv[2]);
		return 1;
	}
	for (int i = 5; i < argc; i++) {
		int k = atoi(argv[i]), bad = w * h;
		time_t end = time(NULL) + 120;

		while (time(NULL) < end && (bad = differ(cl, w, h, k)) != 0) {
			SendFramebufferUpdateRequest(cl, 0, 0, cl->width,
						     cl->height, TRUE);
			if (WaitForMessage(cl, 500000) > 0 &&
			    !HandleRFBServerMessage(cl))
				break;
		}
		if (bad) {
			printf("timeout %d (%d pixels differ, %dx%d)\n", k, bad,
			       cl->width, cl->height);
			free(cl->frameBuffer);
			cl->frameBuffer = NULL;
			rfbClientCleanup(cl);
			return 1;
		}
		printf("seen %d\n", k);
		fflush(stdout);
	}
	free(cl->frameBuffer);   /* the application's, says libvncclient */
	cl->frameBuffer = NULL;
	rfbClientCleanup(cl);
	return 0;
}
