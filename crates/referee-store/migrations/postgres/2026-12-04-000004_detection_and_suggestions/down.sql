DROP TABLE reviewer_suggestions;
DROP TABLE coi_evaluated_pairs;
DROP TABLE coi_detection_jobs;
