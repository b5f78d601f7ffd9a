package main

import (
	"database/sql"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
)

func pgDSN() string {
	if d := os.Getenv("DSAR_TEST_POSTGRES"); d != "" {
		return d
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

func pgReachable() error {
	db, err := sql.Open("pgx", pgDSN())
	if err != nil {
		return err
	}
	defer db.Close()
	return db.Ping()
}

var pgSeq atomic.Int64

// newPGSchema makes an empty schema and returns a DSN using it and a func
// that drops it.
func newPGSchema() (string, func(), error) {
	db, err := sql.Open("pgx", pgDSN())
	if err != nil {
		return "", nil, err
	}
	name := fmt.Sprintf("dsar_cli_%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9, pgSeq.Add(1))
	if _, err := db.Exec(`CREATE SCHEMA ` + name); err != nil {
		db.Close()
		return "", nil, err
	}
	return pgDSN() + "&search_path=" + name, func() {
		db.Exec(`DROP SCHEMA ` + name + ` CASCADE`)
		db.Close()
	}, nil
}
