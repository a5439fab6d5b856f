package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sealog/sealog/store"
)

var _ store.IdempotencyKeys = (*Store)(nil)

// timestamptz keeps microseconds.
func micro(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func (s *Store) idemTable() string { return pgx.Identifier{s.schema, "idempotency"}.Sanitize() }

// ClaimKey records r under key unless key is recorded already (see
// store.IdempotencyKeys).
func (s *Store) ClaimKey(ctx context.Context, key string, r store.KeyRecord) (store.KeyRecord, bool, error) {
	if err := s.check(ctx); err != nil {
		return store.KeyRecord{}, false, err
	}
	r.Claimed, r.Settled, r.First, r.Size = micro(r.Claimed), false, 0, 0
	for range 3 { // a key released between our insert and our read is claimed again
		tag, err := s.pool.Exec(ctx, `INSERT INTO `+s.idemTable()+` (key, request, head, n, from_size, claimed) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (key) DO NOTHING`,
			key, r.Request, r.Head, int64(r.N), int64(r.From), r.Claimed)
		if err != nil {
			return store.KeyRecord{}, false, fmt.Errorf("postgres: claiming an idempotency key: %w", err)
		}
		if tag.RowsAffected() == 1 {
			return r, true, nil
		}
		var (
			got         store.KeyRecord
			n, from     int64
			first, size *int64
		)
		err = s.pool.QueryRow(ctx, `SELECT request, head, n, from_size, claimed, first, size FROM `+s.idemTable()+` WHERE key = $1`, key).
			Scan(&got.Request, &got.Head, &n, &from, &got.Claimed, &first, &size)
		if errors.Is(err, pgx.ErrNoRows) {
			continue
		}
		if err != nil {
			return store.KeyRecord{}, false, fmt.Errorf("postgres: reading an idempotency key: %w", err)
		}
		got.N, got.From, got.Claimed = uint64(n), uint64(from), got.Claimed.UTC()
		if first != nil && size != nil {
			got.Settled, got.First, got.Size = true, uint64(*first), uint64(*size)
		}
		return got, false, nil
	}
	return store.KeyRecord{}, false, errors.New("postgres: claiming an idempotency key: it was claimed and released three times meanwhile")
}

// ReclaimKey replaces key's unsettled claim made at old by r.
func (s *Store) ReclaimKey(ctx context.Context, key string, old time.Time, r store.KeyRecord) (bool, error) {
	if err := s.check(ctx); err != nil {
		return false, err
	}
	tag, err := s.pool.Exec(ctx, `UPDATE `+s.idemTable()+` SET claimed = $3, from_size = $4 WHERE key = $1 AND claimed = $2 AND first IS NULL`,
		key, micro(old), micro(r.Claimed), int64(r.From))
	if err != nil {
		return false, fmt.Errorf("postgres: reclaiming an idempotency key: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// SettleKey records the entries key's request got.
func (s *Store) SettleKey(ctx context.Context, key string, first, size uint64) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	if _, err := s.pool.Exec(ctx, `UPDATE `+s.idemTable()+` SET first = $2, size = $3 WHERE key = $1`, key, int64(first), int64(size)); err != nil {
		return fmt.Errorf("postgres: settling an idempotency key: %w", err)
	}
	return nil
}

// ReleaseKey deletes key's unsettled claim made at claimed.
func (s *Store) ReleaseKey(ctx context.Context, key string, claimed time.Time) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	if _, err := s.pool.Exec(ctx, `DELETE FROM `+s.idemTable()+` WHERE key = $1 AND claimed = $2 AND first IS NULL`, key, micro(claimed)); err != nil {
		return fmt.Errorf("postgres: releasing an idempotency key: %w", err)
	}
	return nil
}

// ExpireKeys deletes the keys claimed before before.
func (s *Store) ExpireKeys(ctx context.Context, before time.Time) (int64, error) {
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	tag, err := s.pool.Exec(ctx, `DELETE FROM `+s.idemTable()+` WHERE claimed < $1`, micro(before))
	if err != nil {
		return 0, fmt.Errorf("postgres: expiring idempotency keys: %w", err)
	}
	return tag.RowsAffected(), nil
}
