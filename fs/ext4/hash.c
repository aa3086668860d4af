/*
 * The htree (dir_index) name hashes, as ext4 and e2fsprogs define them: "legacy" (dx_hack_hash),
 * half-MD4 and TEA, each in a signed-char and an unsigned-char flavour (the superblock's
 * s_flags says which one this file system's directories used). The seed is s_hash_seed
 * (MD4's initial words when it is all zero). Returns the major hash with bit 0 clear (and, for
 * readdir's positions, the minor hash: 0 for legacy, as Linux's ext4fs_dirhash).
 */
#include "fs/ext4/ext4_fs.h"

#define TEA_DELTA 0x9E3779B9u
#define MD4_K2 013240474631u
#define MD4_K3 015666365641u
#define HTREE_EOF_32BIT 0x7fffffffu

static inline uint32_t rol32(uint32_t x, int s) { return (x << s) | (x >> (32 - s)); }

static void tea_transform(uint32_t buf[4], const uint32_t in[4])
{
	uint32_t sum = 0, b0 = buf[0], b1 = buf[1];
	uint32_t a = in[0], b = in[1], c = in[2], d = in[3];
	for (int n = 0; n < 16; n++) {
		sum += TEA_DELTA;
		b0 += ((b1 << 4) + a) ^ (b1 + sum) ^ ((b1 >> 5) + b);
		b1 += ((b0 << 4) + c) ^ (b0 + sum) ^ ((b0 >> 5) + d);
	}
	buf[0] += b0;
	buf[1] += b1;
}

#define F(x, y, z) ((z) ^ ((x) & ((y) ^ (z))))
#define G(x, y, z) (((x) & (y)) + (((x) ^ (y)) & (z)))
#define H(x, y, z) ((x) ^ (y) ^ (z))
#define ROUND(f, a, b, c, d, x, s) (a += f(b, c, d) + (x), a = rol32(a, s))

static void half_md4_transform(uint32_t buf[4], const uint32_t in[8])
{
	uint32_t a = buf[0], b = buf[1], c = buf[2], d = buf[3];
	ROUND(F, a, b, c, d, in[0], 3);
	ROUND(F, d, a, b, c, in[1], 7);
	ROUND(F, c, d, a, b, in[2], 11);
	ROUND(F, b, c, d, a, in[3], 19);
	ROUND(F, a, b, c, d, in[4], 3);
	ROUND(F, d, a, b, c, in[5], 7);
	ROUND(F, c, d, a, b, in[6], 11);
	ROUND(F, b, c, d, a, in[7], 19);
	ROUND(G, a, b, c, d, in[1] + MD4_K2, 3);
	ROUND(G, d, a, b, c, in[3] + MD4_K2, 5);
	ROUND(G, c, d, a, b, in[5] + MD4_K2, 9);
	ROUND(G, b, c, d, a, in[7] + MD4_K2, 13);
	ROUND(G, a, b, c, d, in[0] + MD4_K2, 3);
	ROUND(G, d, a, b, c, in[2] + MD4_K2, 5);
	ROUND(G, c, d, a, b, in[4] + MD4_K2, 9);
	ROUND(G, b, c, d, a, in[6] + MD4_K2, 13);
	ROUND(H, a, b, c, d, in[3] + MD4_K3, 3);
	ROUND(H, d, a, b, c, in[7] + MD4_K3, 9);
	ROUND(H, c, d, a, b, in[2] + MD4_K3, 11);
	ROUND(H, b, c, d, a, in[6] + MD4_K3, 15);
	ROUND(H, a, b, c, d, in[1] + MD4_K3, 3);
	ROUND(H, d, a, b, c, in[5] + MD4_K3, 9);
	ROUND(H, c, d, a, b, in[0] + MD4_K3, 11);
	ROUND(H, b, c, d, a, in[4] + MD4_K3, 15);
	buf[0] += a;
	buf[1] += b;
	buf[2] += c;
	buf[3] += d;
}

static uint32_t dx_hack_hash(const char *name, size_t len, bool unsig)
{
	uint32_t hash, hash0 = 0x12a3fe2d, hash1 = 0x37abe8f9;
	for (size_t i = 0; i < len; i++) {
		int c = unsig ? (int)(unsigned char)name[i] : (int)(signed char)name[i];
		hash = hash1 + (hash0 ^ (uint32_t)(c * 7152373));
		if (hash & 0x80000000u)
			hash -= 0x7fffffff;
		hash1 = hash0;
		hash0 = hash;
	}
	return hash0 << 1;
}

static void str2hashbuf(const char *msg, size_t len, uint32_t *buf, int num, bool unsig)
{
	uint32_t pad = (uint32_t)len | ((uint32_t)len << 8), val;
	pad |= pad << 16;
	val = pad;
	if (len > (size_t)num * 4)
		len = (size_t)num * 4;
	for (size_t i = 0; i < len; i++) {
		int c = unsig ? (int)(unsigned char)msg[i] : (int)(signed char)msg[i];
		val = (uint32_t)c + (val << 8);
		if ((i % 4) == 3) {
			*buf++ = val;
			val = pad;
			num--;
		}
	}
	if (--num >= 0)
		*buf++ = val;
	while (--num >= 0)
		*buf++ = pad;
}

int ext4_dx_hash(const char *name, size_t len, unsigned version, const uint32_t seed[4], uint32_t *out)
{
	uint32_t minor;
	return ext4_dx_hash2(name, len, version, seed, out, &minor);
}

int ext4_dx_hash2(const char *name, size_t len, unsigned version, const uint32_t seed[4], uint32_t *out,
		  uint32_t *minor_out)
{
	uint32_t buf[4] = { 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476 }, in[8], hash, minor = 0;
	if (seed && (seed[0] | seed[1] | seed[2] | seed[3]))
		memcpy(buf, seed, sizeof(buf));
	bool unsig = version >= EXT4_DX_HASH_LEGACY_UNSIGNED;
	const char *p = name;
	long left = (long)len;
	switch (version) {
	case EXT4_DX_HASH_LEGACY:
	case EXT4_DX_HASH_LEGACY_UNSIGNED:
		hash = dx_hack_hash(name, len, unsig);
		break;
	case EXT4_DX_HASH_HALF_MD4:
	case EXT4_DX_HASH_HALF_MD4_UNSIGNED:
		while (left > 0) {
			str2hashbuf(p, (size_t)left, in, 8, unsig);
			half_md4_transform(buf, in);
			left -= 32;
			p += 32;
		}
		hash = buf[1];
		minor = buf[2];
		break;
	case EXT4_DX_HASH_TEA:
	case EXT4_DX_HASH_TEA_UNSIGNED:
		while (left > 0) {
			str2hashbuf(p, (size_t)left, in, 4, unsig);
			tea_transform(buf, in);
			left -= 16;
			p += 16;
		}
		hash = buf[0];
		minor = buf[1];
		break;
	default:
		return -EOPNOTSUPP;      /* siphash (casefolded directories) */
	}
	hash &= ~1u;
	if (hash == (HTREE_EOF_32BIT << 1))
		hash = (HTREE_EOF_32BIT - 1) << 1;
	*out = hash;
	*minor_out = minor;
	return 0;
}
