CREATE DATABASE feedbackvault;
