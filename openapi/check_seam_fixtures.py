#!/usr/bin/env python3
"""Validates the Seam response fixtures of Tests/SeamTests/SeamFixtures.swift against openapi/seam.yaml.

Run from the repository root: python3 openapi/check_seam_fixtures.py (needs openapi-spec-validator,
which brings jsonschema and referencing). `getOngoing` leaves out `is_managed` on purpose, to test that
the client tolerates it; it is expected to fail on exactly that.
"""
import re, json, yaml, sys
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
spec = yaml.safe_load(open('openapi/seam.yaml'))
src = open('Tests/SeamTests/SeamFixtures.swift').read()
fx = dict(re.findall(r'static let (\w+) = """\n(.*?)\n\s*"""', src, re.S))
res = Resource.from_contents(spec, default_specification=__import__('referencing').jsonschema.DRAFT202012)
reg = Registry().with_resource("urn:seam", res)
def schema_for(path, status="200"):
    s = spec['paths'][path]['post']['responses'][status]
    if '$ref' in s: s = spec['components']['responses'][s['$ref'].split('/')[-1]]
    return s['content']['application/json']['schema']
checks = {'createMultiple': ('/access_codes/create_multiple','200'), 'getOngoing': ('/access_codes/get','200'),
  'deletePending': ('/access_codes/delete','200'), 'ok': ('/access_codes/update_multiple','200'),
  'device': ('/devices/get','200'), 'invalidInput': ('/access_codes/create_multiple','400'),
  'deviceNotFound': ('/devices/get','404'), 'accessCodeNotFound': ('/access_codes/delete','404')}
ok = True
expected = {('getOngoing', "'is_managed' is a required property")}
for name,(path,status) in checks.items():
    text = fx.get(name)
    if text is None:
        m = re.search(r'static let %s = #"(.*?)"#' % name, src); text = m.group(1)
    doc = json.loads(text)
    schema = dict(schema_for(path,status)); 
    schema = json.loads(json.dumps(schema).replace('"#/components', '"urn:seam#/components'))
    errs = list(Draft202012Validator(schema, registry=reg).iter_errors(doc))
    unexpected = [e for e in errs if (name, e.message) not in expected]
    for e in unexpected: ok = False; print(name, list(e.path), e.message[:200])
    print(name, 'OK' if not unexpected else 'FAIL')
sys.exit(0 if ok else 1)
