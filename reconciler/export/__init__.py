"""Export: manifests from a live account, for adopting existing configuration into git.

- :mod:`reconciler.export.build`: live state → manifest sections (pure);
- :mod:`reconciler.export.write`: YAML rendering and safe (atomic, no-overwrite) writing.
"""
