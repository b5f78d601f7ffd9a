// Package samples embeds the data files dsar ships: the UK government's
// bank-holiday calendar (Open Government Licence v3.0, as published at
// https://www.gov.uk/bank-holidays.json, years 2019-2027) and the templates
// `dsar init` writes into a new workspace.
package samples

import _ "embed"

// BankHolidays is the UK government's published bank-holidays.json.
//
//go:embed bank-holidays.json
var BankHolidays []byte

// ConfigTemplate is the dsar.yaml that `dsar init` writes.
//
//go:embed templates/dsar.yaml
var ConfigTemplate []byte

// SubjectsTemplate is the subjects.yaml that `dsar init` writes.
//
//go:embed templates/subjects.yaml
var SubjectsTemplate []byte
