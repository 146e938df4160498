/*
 * MetalLB's L2 election (speaker/layer2_controller.go ShouldAnnounce): the
 * candidate with the highest preferredNodeSelectors weight wins; ties go to
 * the smallest sha256(node + "#" + first VIP), compared as bytes. Every
 * speaker computes the same, and Services sharing an IP land together.
 */
#include "config.h"

#include <string.h>


#include <openssl/evp.h>

#include "vipgate/l2.h"

#define HASHLEN 32

static void
node_hash(const char *node, const char *vip, uint8_t out[HASHLEN])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	if (c == NULL || !EVP_DigestInit_ex(c, EVP_sha256(), NULL) ||
	    !EVP_DigestUpdate(c, node, strlen(node)) || !EVP_DigestUpdate(c, "#", 1) ||
	    !EVP_DigestUpdate(c, vip, strlen(vip)) || !EVP_DigestFinal_ex(c, out, NULL))
		memset(out, 0xff, HASHLEN);
	EVP_MD_CTX_free(c);
}

ssize_t
l2_elect(const struct l2_cand *c, size_t n, const char *vip)
{
	uint8_t best[HASHLEN], h[HASHLEN];
	ssize_t w = -1;
	size_t i;

	for (i = 0; i < n; i++) {
		node_hash(c[i].node, vip, h);
		if (w < 0 || c[i].weight > c[w].weight ||
		    (c[i].weight == c[w].weight && memcmp(h, best, sizeof(h)) < 0)) {
			w = (ssize_t)i;
			memcpy(best, h, sizeof(h));
		}
	}
	return w;
}
