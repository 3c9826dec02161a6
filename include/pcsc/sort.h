/* pcsc/sort.h - the one heapsort of the project, instantiated per element type.
 * O(n log n) worst case, in place, no recursion, no allocation: counts it
 * sorts come from untrusted input, so no quicksort worst case, no stack. */
#ifndef PCSC_SORT_H
#define PCSC_SORT_H

#include <stdint.h>

/*
 * PCSC_DEFINE_HEAPSORT(name, type, less) defines
 *   static void name(type *a, uint32_t n);
 * sorting a[0..n) so that less(&a[i+1], &a[i]) is false for every i
 * (ascending by less); an input already in that order costs n - 1
 * compares and no move. less(const type *, const type *) returns bool. A
 * macro rather than a qsort-style callback so the comparison inlines: the
 * sorts sit on the verify path counted by `make bench`.
 */
#define PCSC_DEFINE_HEAPSORT(name, type, less)					\
static void name##_sift(type *a, uint32_t root, uint32_t n)			\
{										\
	for (;;) {								\
		uint32_t c = 2 * root + 1;					\
		type t;								\
										\
		if (c >= n)							\
			return;							\
		if (c + 1 < n && less(&a[c], &a[c + 1]))			\
			c++;							\
		if (!less(&a[root], &a[c]))					\
			return;							\
		t = a[root];							\
		a[root] = a[c];							\
		a[c] = t;							\
		root = c;							\
	}									\
}										\
										\
static void name(type *a, uint32_t n)						\
{										\
	uint32_t i;								\
	type t;									\
										\
	/* Writers emit in order (the RFC by BDF, allocators by address):	\
	 * one compare per element skips the sort when already sorted. */	\
	for (i = 1; i < n && !less(&a[i], &a[i - 1]); i++)			\
		;								\
	if (i >= n)								\
		return;								\
	for (i = n / 2; i-- > 0;)						\
		name##_sift(a, i, n);						\
	for (i = n; i-- > 1;) {							\
		t = a[0];							\
		a[0] = a[i];							\
		a[i] = t;							\
		name##_sift(a, 0, i);						\
	}									\
}

/*
 * PCSC_DEFINE_PARTITION_POINT(name, type, key_type, pred) defines
 *   static uint32_t name(const type *a, uint32_t n, key_type key);
 * returning the first index i in [0, n] for which pred(&a[i], key) is
 * false, where a[] is ordered so that pred holds on a prefix and fails on
 * the rest (pred = "less than key" gives the lower bound, "<= key" the
 * upper bound). O(log n), no overflow in the midpoint.
 */
#define PCSC_DEFINE_PARTITION_POINT(name, type, key_type, pred)			\
static uint32_t name(const type *a, uint32_t n, key_type key)			\
{										\
	uint32_t lo = 0, hi = n;						\
										\
	while (lo < hi) {							\
		uint32_t mid = lo + (hi - lo) / 2;				\
										\
		if (pred(&a[mid], key))						\
			lo = mid + 1;						\
		else								\
			hi = mid;						\
	}									\
	return lo;								\
}

#endif
