package asterisk

import "github.com/dsar-tool/dsar/exporter/source"

// CSVKind declares the asterisk-csv connector for the registry.
var CSVKind = func() source.Kind {
	d := Describe()
	k := source.Kind{Name: d.Kind, Summary: d.Summary}
	for _, key := range d.Keys {
		k.Keys = append(k.Keys, source.Key{Name: key.Name, Description: key.Desc, Required: key.Required})
	}
	k.New = func(name string, decode func(any) error, resolve func(string) string) (source.Source, error) {
		var c Config
		if err := decode(&c); err != nil {
			return nil, err
		}
		for i, p := range c.Paths {
			c.Paths[i] = resolve(p)
		}
		return New(name, c)
	}
	return k
}()
