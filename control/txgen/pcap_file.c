/* Hand-written classic pcap output. */
#include "pcap_file.h"

#include "wire.h"

FILE *tg_pcap_open(const char *path)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return NULL;
	setvbuf(f, NULL, _IOFBF, 1 << 20);
	uint8_t h[24];
	txg_st32(h, 0xa1b2c3d4u);
	txg_st16(h + 4, 2);
	txg_st16(h + 6, 4);
	txg_st32(h + 8, 0);  /* thiszone */
	txg_st32(h + 12, 0); /* sigfigs */
	txg_st32(h + 16, TG_PCAP_SNAPLEN);
	txg_st32(h + 20, 1); /* LINKTYPE_ETHERNET */
	if (fwrite(h, sizeof h, 1, f) != 1) {
		fclose(f);
		return NULL;
	}
	return f;
}

int tg_pcap_write(FILE *f, uint64_t ts_us, const uint8_t *pkt, size_t len)
{
	if (len > TG_PCAP_SNAPLEN)
		return -1;
	uint8_t h[16];
	txg_st32(h, (uint32_t)(ts_us / 1000000u));
	txg_st32(h + 4, (uint32_t)(ts_us % 1000000u));
	txg_st32(h + 8, (uint32_t)len);
	txg_st32(h + 12, (uint32_t)len);
	if (fwrite(h, sizeof h, 1, f) != 1 || (len && fwrite(pkt, len, 1, f) != 1))
		return -1;
	return 0;
}

int tg_pcap_close(FILE *f)
{
	int bad = ferror(f);
	if (fclose(f) != 0)
		bad = 1;
	return bad ? -1 : 0;
}
