// Package exporter runs the dsar pipeline for one request:
//
//	gate → collect (sources, filtered to the subject's identifiers)
//	     → normalise (sort, drop exact duplicates, number call legs)
//	     → write (JSON, CSV, XLSX, Parquet, README, manifest into a zip)
//	     → seal (OpenPGP: signed, encrypted) → rename into the outbox
//
// Plaintext never reaches disk outside a private scratch directory: format
// writers stream into zip entries, the zip streams into the OpenPGP writer,
// and only the ciphertext file is created, under a temporary name that is
// fsynced and renamed when complete and removed on any failure.
//
// Given the same inputs, options and generation time, the zip inside the
// envelope is byte-identical from run to run (fixed entry order and
// timestamps), so a re-run can be checked against an earlier manifest.
package exporter
