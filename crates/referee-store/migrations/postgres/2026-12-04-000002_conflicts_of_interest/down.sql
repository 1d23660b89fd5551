DROP TABLE conflicts_of_interest;
