package main

import "github.com/dsar-tool/dsar/exporter/config"

// findDestination returns the named destination from the config.
func findDestination(cfg *config.Config, name string) (config.Destination, bool) {
	for _, d := range cfg.Destinations {
		if d.Name == name {
			return d, true
		}
	}
	return config.Destination{}, false
}
