"""Chapter 16's model services: the saved Spark pipeline behind two HTTP interfaces.

- `predict_app`: `GET /predict?crim=…&zn=…&indus=…`, the book's Flask service;
- `sagemaker_app`: SageMaker's container contract (`GET /ping`, `POST /invocations`),
  started by the `serve` program inside the image the `Dockerfile` builds.

Both read the pipeline Spark saved (`spark_pipeline`) without starting a JVM.
"""
