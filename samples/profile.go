package samples

import _ "embed"

// ProfileTemplate is the commented controller profile (controller.yaml)
// that `dsar init` writes. Every value the controller must supply starts
// with "EDIT:"; letter.LoadProfile refuses a profile that still holds one.
//
//go:embed templates/controller.yaml
var ProfileTemplate []byte
