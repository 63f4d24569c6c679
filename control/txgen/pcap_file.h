/* Classic libpcap capture files (magic 0xa1b2c3d4, version 2.4, snaplen
 * 65535, link type 1 = Ethernet), written by hand, little-endian. */
#ifndef TXGEN_PCAP_FILE_H
#define TXGEN_PCAP_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define TG_PCAP_SNAPLEN 65535u

/* Open path for writing and write the global header. NULL on error (errno set). */
FILE *tg_pcap_open(const char *path);

/* Append one packet of len bytes (len <= TG_PCAP_SNAPLEN) stamped ts_us
 * microseconds since the epoch. 0, or -1 on a write error. */
int tg_pcap_write(FILE *f, uint64_t ts_us, const uint8_t *pkt, size_t len);

/* Flush and close; 0, or -1 if any write failed. */
int tg_pcap_close(FILE *f);

#endif
