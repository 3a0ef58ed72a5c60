"""Change the whole fleet safely: a chart version wave by wave through the environments, template changes."""
