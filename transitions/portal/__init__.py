"""The portal: server-rendered French pages that the territories, the consultancy, the jurors and
the Cerdd reach by personal links (`models.links`), acting through the same domain functions as
the command line. `app.create_app` builds it; `server.run` serves it with uvicorn."""
