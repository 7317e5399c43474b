/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The takeover's binary bodies (ctrl/takeover_wire.c): bad bodies first
 * (too short for a header, a major version this build does not know, a
 * record whose length runs past the body, fields read past a record's
 * end, a byte string longer than its bound), then round trips of every
 * field kind in a fixed byte order, a newer writer's record (extra
 * trailing fields) read by this one, and a body reset for the next frame.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "takeover_wire.h"

static char err[256];

Test(twire, refuses_a_body_too_short_for_its_version)
{
	struct nm_twire_reader r;
	static const uint8_t body[] = {0, 1, 0};
	uint16_t minor;

	cr_expect_eq(nm_twire_reader_init(&r, body, sizeof(body), &minor, err, sizeof(err)),
		     -EPROTO);
	cr_expect(strstr(err, "too short") != NULL, "err '%s'", err);
}

Test(twire, refuses_an_unknown_major_version)
{
	struct nm_twire_reader r;
	static const uint8_t body[] = {0, 2, 0, 7};
	uint16_t minor;

	cr_expect_eq(nm_twire_reader_init(&r, body, sizeof(body), &minor, err, sizeof(err)),
		     -EPROTO);
	cr_expect(strstr(err, "version 2.7, this nodemeshd reads 1.x") != NULL, "err '%s'", err);
}

Test(twire, accepts_a_newer_minor_version)
{
	struct nm_twire_reader r;
	static const uint8_t body[] = {0, 1, 0, 9};
	uint16_t minor = 0;

	cr_expect_eq(nm_twire_reader_init(&r, body, sizeof(body), &minor, err, sizeof(err)), 0,
		     "%s", err);
	cr_expect_eq(minor, 9);
}

Test(twire, refuses_a_record_that_runs_past_the_body)
{
	struct nm_twire_reader r, rec;
	/* A record announcing 8 bytes with 3 present; then a length cut in half. */
	static const uint8_t body[] = {0, 1, 0, 0, 0, 0, 0, 8, 1, 2, 3};
	static const uint8_t half[] = {0, 1, 0, 0, 0, 0};
	uint16_t minor;

	cr_assert_eq(nm_twire_reader_init(&r, body, sizeof(body), &minor, err, sizeof(err)), 0);
	cr_expect_eq(nm_twire_next_record(&r, &rec, err, sizeof(err)), -EPROTO);
	cr_expect(strstr(err, "its length (8) runs past the body's end (11 bytes)") != NULL,
		  "err '%s'", err);
	cr_assert_eq(nm_twire_reader_init(&r, half, sizeof(half), &minor, err, sizeof(err)), 0);
	cr_expect_eq(nm_twire_next_record(&r, &rec, err, sizeof(err)), -EPROTO);
}

Test(twire, a_field_past_the_record_marks_it_short)
{
	struct nm_twire_reader rec = {.p = (const uint8_t *)"\x01\x02\x03", .len = 3};

	cr_expect_eq(nm_twire_get_u16(&rec), 0x0102);
	cr_expect(nm_twire_reader_ok(&rec));
	cr_expect_eq(nm_twire_get_u16(&rec), 0, "a field past the end reads as zero");
	cr_expect_not(nm_twire_reader_ok(&rec));
	cr_expect_eq(nm_twire_get_u8(&rec), 0, "and stays short");
}

Test(twire, refuses_a_blob_over_its_bound)
{
	struct nm_twire_writer w = {0};
	struct nm_twire_reader r, rec;
	uint16_t minor;
	uint32_t n;

	nm_twire_writer_init(&w);
	nm_twire_record_begin(&w);
	nm_twire_put_blob(&w, "0123456789", 10);
	nm_twire_record_end(&w);
	cr_assert_eq(nm_twire_reader_init(&r, w.buf, w.len, &minor, err, sizeof(err)), 0);
	cr_assert_eq(nm_twire_next_record(&r, &rec, err, sizeof(err)), 1);
	cr_expect_null(nm_twire_get_blob(&rec, 9, &n));
	cr_expect_not(nm_twire_reader_ok(&rec));
	nm_twire_writer_free(&w);
}

Test(twire, fields_round_trip_big_endian)
{
	struct nm_twire_writer w = {0};
	struct nm_twire_reader r, rec;
	uint8_t raw[5];
	uint16_t minor;
	uint32_t n;

	nm_twire_writer_init(&w);
	nm_twire_record_begin(&w);
	nm_twire_put_u8(&w, 0xab);
	nm_twire_put_u16(&w, 0x1234);
	nm_twire_put_u32(&w, 0xdeadbeef);
	nm_twire_put_u64(&w, 0x0102030405060708ull);
	nm_twire_put_bytes(&w, "hello", 5);
	nm_twire_put_blob(&w, "xyz", 3);
	nm_twire_record_end(&w);
	cr_assert_not(w.err);

	/* Header 0001 0000, then the record's length (1+2+4+8+5+4+3 = 27) and its fields. */
	static const uint8_t want[] = {0,    1,	   0,	 0,   0, 0, 0, 27, 0xab, 0x12, 0x34, 0xde,
				       0xad, 0xbe, 0xef, 1,   2, 3, 4, 5,  6,	 7,    8,    'h',
				       'e',  'l',  'l',	 'o', 0, 0, 0, 3,  'x',	 'y',  'z'};
	cr_assert_eq(w.len, sizeof(want));
	cr_expect_arr_eq(w.buf, want, sizeof(want));

	cr_assert_eq(nm_twire_reader_init(&r, w.buf, w.len, &minor, err, sizeof(err)), 0);
	cr_expect_eq(minor, NM_TWIRE_MINOR);
	cr_assert_eq(nm_twire_next_record(&r, &rec, err, sizeof(err)), 1);
	cr_expect_eq(nm_twire_get_u8(&rec), 0xab);
	cr_expect_eq(nm_twire_get_u16(&rec), 0x1234);
	cr_expect_eq(nm_twire_get_u32(&rec), 0xdeadbeef);
	cr_expect_eq(nm_twire_get_u64(&rec), 0x0102030405060708ull);
	nm_twire_get_bytes(&rec, raw, sizeof(raw));
	cr_expect_arr_eq(raw, "hello", 5);
	const uint8_t *blob = nm_twire_get_blob(&rec, 100, &n);
	cr_assert_not_null(blob);
	cr_expect_eq(n, 3);
	cr_expect_arr_eq(blob, "xyz", 3);
	cr_expect(nm_twire_reader_ok(&rec));
	cr_expect_eq(nm_twire_reader_left(&rec), 0);
	cr_expect_eq(nm_twire_next_record(&r, &rec, err, sizeof(err)), 0, "the body's end");
	nm_twire_writer_free(&w);
}

/* A newer writer appended a field: this reader takes its own and skips the rest. */
Test(twire, a_newer_writers_trailing_fields_are_skipped)
{
	struct nm_twire_writer w = {0};
	struct nm_twire_reader r, rec;
	uint16_t minor;

	nm_twire_writer_init(&w);
	nm_twire_record_begin(&w);
	nm_twire_put_u32(&w, 7);
	nm_twire_put_u64(&w, 0xffffffffffffffffull); /* the newer field */
	nm_twire_record_end(&w);
	nm_twire_record_begin(&w);
	nm_twire_put_u32(&w, 8);
	nm_twire_record_end(&w);

	cr_assert_eq(nm_twire_reader_init(&r, w.buf, w.len, &minor, err, sizeof(err)), 0);
	cr_assert_eq(nm_twire_next_record(&r, &rec, err, sizeof(err)), 1);
	cr_expect_eq(nm_twire_get_u32(&rec), 7);
	cr_expect(nm_twire_reader_ok(&rec));
	cr_expect_eq(nm_twire_reader_left(&rec), 8);
	cr_assert_eq(nm_twire_next_record(&r, &rec, err, sizeof(err)), 1);
	cr_expect_eq(nm_twire_get_u32(&rec), 8, "the next record starts after the skipped bytes");
	nm_twire_writer_free(&w);
}

Test(twire, reset_keeps_only_the_header)
{
	struct nm_twire_writer w = {.wipe = true};

	nm_twire_writer_init(&w);
	cr_expect(w.wipe, "init keeps the wipe choice");
	nm_twire_record_begin(&w);
	for (int i = 0; i < 3000; i++) /* past the first allocation: a move, wiped */
		nm_twire_put_u64(&w, (uint64_t)i);
	nm_twire_record_end(&w);
	cr_expect_gt(w.cap, 4096);
	nm_twire_writer_reset(&w);
	cr_expect_eq(w.len, NM_TWIRE_HDR_LEN);
	cr_expect_eq(w.buf[1], NM_TWIRE_MAJOR);
	nm_twire_writer_free(&w);
	cr_expect_null(w.buf);
}
