/* Kind names and the traffic mix. */
#include "mix.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

static const char *const names[TG_KIND_NUM] = {
	[TG_VALID] = "valid",
	[TG_MULTI] = "multi",
	[TG_DUP] = "dup",
	[TG_FORGED] = "forged",
	[TG_BAD_SIG] = "bad_sig",
	[TG_EXPIRED] = "expired",
	[TG_TOO_FAR] = "too_far",
	[TG_UNKNOWN] = "unknown",
	[TG_WRONG_CHAIN] = "wrong_chain",
	[TG_REC_MALFORMED] = "rec_malformed",
	[TG_VLAN] = "vlan",
	[TG_IPV6] = "ipv6",
	[TG_PKT_IP_CSUM] = "pkt_ip_csum",
	[TG_PKT_UDP_CSUM] = "pkt_udp_csum",
	[TG_PKT_IP_FRAG] = "pkt_ip_frag",
	[TG_PKT_DST_PORT] = "pkt_dst_port",
	[TG_PKT_DST_ADDR] = "pkt_dst_addr",
	[TG_PKT_NOT_UDP] = "pkt_not_udp",
	[TG_PKT_SHORT] = "pkt_short",
	[TG_PKT_NOT_IP] = "pkt_not_ip",
	[TG_PKT_VLAN_STACKED] = "pkt_vlan_stacked",
	[TG_PKT_IP_BAD_HDR] = "pkt_ip_bad_hdr",
	[TG_PKT_UDP_LEN] = "pkt_udp_len",
	[TG_PKT_UDP6_ZERO_CSUM] = "pkt_udp6_zero_csum",
};

/* The frame kinds take the appliance's counter names from wire.c. */
static const enum txg_frame_err frame_err[TG_FIRST_PKT_KIND - TG_FIRST_FRAME_KIND] = {
	TXG_FE_MAGIC, TXG_FE_VERSION, TXG_FE_FLAGS, TXG_FE_COUNT, TXG_FE_BODY_SHORT, TXG_FE_OVERRUN, TXG_FE_TRAILING,
};

const char *tg_kind_name(enum tg_kind k)
{
	if (k >= TG_FIRST_FRAME_KIND && k < TG_FIRST_PKT_KIND)
		return txg_frame_err_name(frame_err[k - TG_FIRST_FRAME_KIND]);
	return (unsigned)k < TG_KIND_NUM ? names[k] : "?";
}

const char *tg_kind_expect(enum tg_kind k)
{
	if ((unsigned)k >= TG_KIND_NUM || tg_kind_is_record(k))
		return NULL;
	if (k == TG_PKT_UDP6_ZERO_CSUM)
		return "pkt_udp_csum"; /* spec section 1: a zero UDP checksum over IPv6 is a bad checksum */
	return tg_kind_name(k);
}

unsigned tg_kind_frame_err(enum tg_kind k)
{
	if (k >= TG_FIRST_FRAME_KIND && k < TG_FIRST_PKT_KIND)
		return frame_err[k - TG_FIRST_FRAME_KIND];
	return TXG_FE_OK;
}

void tg_mix_default(double *w)
{
	static const double rec[TG_FIRST_FRAME_KIND] = {
		[TG_VALID] = 50, [TG_MULTI] = 4,   [TG_DUP] = 5,	 [TG_FORGED] = 3,
		[TG_BAD_SIG] = 4, [TG_EXPIRED] = 4, [TG_TOO_FAR] = 4, [TG_UNKNOWN] = 4,
		[TG_WRONG_CHAIN] = 4, [TG_REC_MALFORMED] = 4, [TG_VLAN] = 3, [TG_IPV6] = 3,
	};
	for (int k = 0; k < TG_KIND_NUM; k++)
		w[k] = k < TG_FIRST_FRAME_KIND ? rec[k] : k < TG_FIRST_PKT_KIND ? 0.15 : 0.1;
}

int tg_mix_parse(const char *spec, double *w)
{
	char *copy = strdup(spec);
	if (!copy)
		return -1;
	int rc = 0;
	char *save = NULL;
	for (int k = 0; k < TG_KIND_NUM; k++)
		w[k] = 0;
	for (char *item = strtok_r(copy, ",", &save); item && rc == 0; item = strtok_r(NULL, ",", &save)) {
		if (strcmp(item, "default") == 0) {
			tg_mix_default(w);
			continue;
		}
		char *eq = strchr(item, '=');
		char *end = NULL;
		double v = eq ? strtod(eq + 1, &end) : -1;
		if (!eq || end == eq + 1 || *end || !(v >= 0 && v <= 1e9)) {
			fprintf(stderr, "txgen: --mix: '%s' is not kind=weight (weight >= 0)\n", item);
			rc = -1;
			break;
		}
		*eq = 0;
		int found = 0;
		for (int k = 0; k < TG_KIND_NUM; k++)
			if (strcmp(item, "all") == 0 || strcmp(item, tg_kind_name((enum tg_kind)k)) == 0) {
				w[k] = v;
				found = 1;
			}
		if (!found) {
			fprintf(stderr, "txgen: --mix: unknown kind '%s'\n", item);
			rc = -1;
		}
	}
	free(copy);
	return rc;
}
