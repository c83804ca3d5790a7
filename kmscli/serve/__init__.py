"""`kmscli serve`: the keyring as an AWS KMS endpoint (JSON 1.1 protocol, SigV4).

    wire    AWS's JSON form <-> the service's plain data, along botocore's shapes
    sigv4   checking a request's signature against the keyring's access keys
    app     the application: one request, one operation through service.operations
    asgi    the ASGI side: the request read (bounded), inline or on a worker thread
    log     one line per request on standard error
    server  the HTTP(S) server, its limits, and the graceful stop

Imported only by the `serve` command: no other command pays for botocore or uvicorn.
"""
